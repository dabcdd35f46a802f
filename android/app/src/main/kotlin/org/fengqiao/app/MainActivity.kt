// The one activity: asks for the notification permission (Android 13+, for
// the sync progress), shows the navigation, and over it the lock screen while
// the user's data is locked (PIN, or the system's biometric prompt). A
// FragmentActivity because androidx.biometric's BiometricPrompt needs one.
package org.fengqiao.app

import android.Manifest
import android.os.Build
import android.os.Bundle
import androidx.activity.compose.setContent
import androidx.activity.enableEdgeToEdge
import androidx.activity.result.contract.ActivityResultContracts
import androidx.biometric.BiometricManager
import androidx.biometric.BiometricPrompt
import androidx.compose.foundation.isSystemInDarkTheme
import androidx.compose.foundation.layout.Box
import androidx.compose.material3.MaterialTheme
import androidx.compose.material3.Text
import androidx.compose.material3.darkColorScheme
import androidx.compose.material3.lightColorScheme
import androidx.compose.runtime.Composable
import androidx.compose.runtime.LaunchedEffect
import androidx.compose.runtime.getValue
import androidx.compose.runtime.mutableStateOf
import androidx.compose.runtime.remember
import androidx.compose.runtime.setValue
import androidx.core.content.ContextCompat
import androidx.fragment.app.FragmentActivity
import androidx.lifecycle.compose.collectAsStateWithLifecycle
import androidx.lifecycle.lifecycleScope
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.launch
import kotlinx.coroutines.withContext
import org.fengqiao.app.state.LoginState
import org.fengqiao.app.ui.FengqiaoNavigation
import org.fengqiao.app.ui.LockScreen
import org.fengqiao.app.ui.rememberScreenState

class MainActivity : FragmentActivity() {
    private val askNotifications = registerForActivityResult(ActivityResultContracts.RequestPermission()) { }
    private lateinit var biometricPrompt: BiometricPrompt

    override fun onCreate(savedInstanceState: Bundle?) {
        super.onCreate(savedInstanceState)
        enableEdgeToEdge()
        if (Build.VERSION.SDK_INT >= Build.VERSION_CODES.TIRAMISU) {
            askNotifications.launch(Manifest.permission.POST_NOTIFICATIONS)
        }
        val container = (application as FengqiaoApp).container
        // Created here (not on demand) so the prompt survives rotation.
        biometricPrompt = BiometricPrompt(
            this,
            ContextCompat.getMainExecutor(this),
            object : BiometricPrompt.AuthenticationCallback() {
                override fun onAuthenticationSucceeded(result: BiometricPrompt.AuthenticationResult) {
                    lifecycleScope.launch { container.lock.onBiometricResult(true) }
                }

                override fun onAuthenticationError(errorCode: Int, errString: CharSequence) {
                    // Cancelled, "use PIN", or locked out by the system: the PIN stays possible.
                    lifecycleScope.launch { container.lock.onBiometricResult(false) }
                }
                // onAuthenticationFailed: one unrecognised try; the system prompt stays up.
            },
        )
        val biometricAvailable = BiometricManager.from(this)
            .canAuthenticate(BiometricManager.Authenticators.BIOMETRIC_WEAK) == BiometricManager.BIOMETRIC_SUCCESS
        setContent {
            FengqiaoTheme {
                // Opening the store is disk work: do it off the main thread, then show the app.
                var opened by remember { mutableStateOf<Result<Boolean>?>(null) }
                LaunchedEffect(Unit) {
                    opened = withContext(Dispatchers.IO) {
                        runCatching {
                            val signedIn = container.core.currentUser() != null
                            container.lock.refresh()
                            signedIn
                        }
                    }
                }
                val lockUi by container.lock.ui.collectAsStateWithLifecycle()
                // The screens load their data when first shown: not before the first unlock.
                var everUnlocked by remember { mutableStateOf(false) }
                LaunchedEffect(lockUi.locked, opened) { if (opened != null && !lockUi.locked) everUnlocked = true }
                when (val o = opened) {
                    null -> Unit
                    else -> o.fold(
                        onSuccess = { signedIn ->
                            Box {
                                if (everUnlocked) FengqiaoNavigation(container, signedIn)
                                if (lockUi.locked) {
                                    LockScreen(
                                        container.lock,
                                        rememberScreenState { LoginState(container.core) },
                                        biometricAvailable,
                                        onBiometric = ::showBiometricPrompt,
                                    )
                                }
                            }
                        },
                        // The store key could not be unwrapped or the store not opened: nothing to show but why.
                        onFailure = { e -> Text(getString(R.string.store_unavailable, e.javaClass.simpleName)) },
                    )
                }
            }
        }
    }

    override fun onStart() {
        super.onStart()
        // Back from the background: the lock state changed under the UI (ProcessLifecycleOwner locked it).
        val container = (application as FengqiaoApp).container
        if (container.isOpen) lifecycleScope.launch { container.lock.refresh() }
    }

    private fun showBiometricPrompt() {
        val info = BiometricPrompt.PromptInfo.Builder()
            .setTitle(getString(R.string.lock_biometric_title))
            .setNegativeButtonText(getString(R.string.lock_use_pin))
            .setAllowedAuthenticators(BiometricManager.Authenticators.BIOMETRIC_WEAK)
            .build()
        biometricPrompt.authenticate(info)
    }
}

@Composable
private fun FengqiaoTheme(content: @Composable () -> Unit) {
    MaterialTheme(colorScheme = if (isSystemInDarkTheme()) darkColorScheme() else lightColorScheme(), content = content)
}
