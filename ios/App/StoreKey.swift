// The core's store key (32 bytes; the core encrypts everything it keeps under
// it): made once with SecRandomCopyBytes and kept in the Keychain as a
// generic-password item readable after the first unlock since boot (so
// background sync can open the store), on this device only (never in a
// backup or on another phone).
import Foundation
import Security

enum StoreKeyError: Error {
    case random(OSStatus)
    case keychain(OSStatus)
    case malformed
}

enum StoreKey {
    private static let service = "org.fengqiao.app.store-key"
    private static let account = "core"
    private static let length = 32

    /// The store key: read from the Keychain, or made and saved on first start.
    static func load() throws -> Data {
        if let existing = try read() { return existing }
        var bytes = [UInt8](repeating: 0, count: length)
        let status = SecRandomCopyBytes(kSecRandomDefault, length, &bytes)
        guard status == errSecSuccess else { throw StoreKeyError.random(status) }
        let key = Data(bytes)
        let add: [String: Any] = [
            kSecClass as String: kSecClassGenericPassword,
            kSecAttrService as String: service,
            kSecAttrAccount as String: account,
            kSecAttrAccessible as String: kSecAttrAccessibleAfterFirstUnlockThisDeviceOnly,
            kSecValueData as String: key,
        ]
        let added = SecItemAdd(add as CFDictionary, nil)
        if added == errSecDuplicateItem, let raced = try read() { return raced }
        guard added == errSecSuccess else { throw StoreKeyError.keychain(added) }
        return key
    }

    private static func read() throws -> Data? {
        let query: [String: Any] = [
            kSecClass as String: kSecClassGenericPassword,
            kSecAttrService as String: service,
            kSecAttrAccount as String: account,
            kSecReturnData as String: true,
            kSecMatchLimit as String: kSecMatchLimitOne,
        ]
        var item: CFTypeRef?
        let status = SecItemCopyMatching(query as CFDictionary, &item)
        if status == errSecItemNotFound { return nil }
        guard status == errSecSuccess else { throw StoreKeyError.keychain(status) }
        guard let data = item as? Data, data.count == length else { throw StoreKeyError.malformed }
        return data
    }
}
