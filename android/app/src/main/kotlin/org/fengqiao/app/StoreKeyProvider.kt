// The core's store key (32 bytes; the core encrypts everything it keeps under
// it). It is made once at random and kept wrapped (AES-256-GCM) by a key that
// never leaves the Android Keystore, in the app's private no-backup folder:
// the wrapped file alone opens nothing, and neither does a backup or a copy of
// the phone's storage.
package org.fengqiao.app

import android.content.Context
import android.security.keystore.KeyGenParameterSpec
import android.security.keystore.KeyProperties
import java.io.File
import java.security.KeyStore
import java.security.SecureRandom
import javax.crypto.Cipher
import javax.crypto.KeyGenerator
import javax.crypto.SecretKey
import javax.crypto.spec.GCMParameterSpec

/** The wrapped store key cannot be opened (the Keystore key is gone or the file is damaged). */
class StoreKeyUnavailable(message: String, cause: Throwable? = null) : Exception(message, cause)

class StoreKeyProvider(context: Context) {
    private val file = File(context.noBackupFilesDir, FILE_NAME)

    /**
     * The store key: unwrapped from the private file, or (first start) made at
     * random, wrapped and saved. The caller should clear the array once the
     * core has it (`fill(0)`).
     */
    @Synchronized
    fun storeKey(): ByteArray {
        if (file.exists()) return unwrap(file.readBytes())
        val key = ByteArray(STORE_KEY_BYTES).also { SecureRandom().nextBytes(it) }
        val blob = wrap(key)
        // Written whole, then renamed: a crash never leaves half a key file.
        val tmp = File(file.parentFile, "$FILE_NAME.tmp")
        tmp.outputStream().use { out ->
            out.write(blob)
            out.fd.sync()
        }
        if (!tmp.renameTo(file)) throw StoreKeyUnavailable("could not save the wrapped store key")
        return key
    }

    /** The AES-256 wrapping key in the AndroidKeyStore, made on first use. */
    private fun wrappingKey(): SecretKey {
        val keyStore = KeyStore.getInstance(ANDROID_KEYSTORE).apply { load(null) }
        (keyStore.getKey(KEY_ALIAS, null) as? SecretKey)?.let { return it }
        val generator = KeyGenerator.getInstance(KeyProperties.KEY_ALGORITHM_AES, ANDROID_KEYSTORE)
        generator.init(
            KeyGenParameterSpec.Builder(KEY_ALIAS, KeyProperties.PURPOSE_ENCRYPT or KeyProperties.PURPOSE_DECRYPT)
                .setBlockModes(KeyProperties.BLOCK_MODE_GCM)
                .setEncryptionPaddings(KeyProperties.ENCRYPTION_PADDING_NONE)
                .setKeySize(256)
                // Background sync runs while the screen is locked: no user
                // authentication here (the core's own PIN lock guards the data).
                .setUserAuthenticationRequired(false)
                .build(),
        )
        return generator.generateKey()
    }

    /** `[version][iv length][iv][ciphertext+tag]`; the Keystore picks the IV. */
    private fun wrap(key: ByteArray): ByteArray {
        val cipher = Cipher.getInstance(TRANSFORMATION)
        cipher.init(Cipher.ENCRYPT_MODE, wrappingKey())
        cipher.updateAAD(AAD)
        val iv = cipher.iv
        val sealed = cipher.doFinal(key)
        return byteArrayOf(FORMAT_VERSION, iv.size.toByte()) + iv + sealed
    }

    private fun unwrap(blob: ByteArray): ByteArray {
        if (blob.size < 2 || blob[0] != FORMAT_VERSION) throw StoreKeyUnavailable("unknown store key file format")
        val ivLen = blob[1].toInt()
        if (ivLen <= 0 || blob.size < 2 + ivLen + GCM_TAG_BITS / 8) throw StoreKeyUnavailable("store key file too short")
        val iv = blob.copyOfRange(2, 2 + ivLen)
        val sealed = blob.copyOfRange(2 + ivLen, blob.size)
        val keyStore = KeyStore.getInstance(ANDROID_KEYSTORE).apply { load(null) }
        val wrapping = keyStore.getKey(KEY_ALIAS, null) as? SecretKey
            ?: throw StoreKeyUnavailable("the Keystore key that wraps the store key is gone")
        return try {
            val cipher = Cipher.getInstance(TRANSFORMATION)
            cipher.init(Cipher.DECRYPT_MODE, wrapping, GCMParameterSpec(GCM_TAG_BITS, iv))
            cipher.updateAAD(AAD)
            cipher.doFinal(sealed).also {
                if (it.size != STORE_KEY_BYTES) throw StoreKeyUnavailable("the unwrapped store key has the wrong size")
            }
        } catch (e: java.security.GeneralSecurityException) {
            throw StoreKeyUnavailable("the store key could not be unwrapped", e)
        }
    }

    private companion object {
        const val ANDROID_KEYSTORE = "AndroidKeyStore"
        const val KEY_ALIAS = "org.fengqiao.app.store-key-wrap"
        const val FILE_NAME = "store-key.wrapped"
        const val TRANSFORMATION = "AES/GCM/NoPadding"
        const val GCM_TAG_BITS = 128
        const val STORE_KEY_BYTES = 32
        const val FORMAT_VERSION: Byte = 1
        val AAD = "fengqiao store key v1".toByteArray()
    }
}
