// The lock screen (PIN or biometrics, over the whole app while the user's data
// is closed) and the PIN settings card of the sync screen.
package org.fengqiao.app.ui

import androidx.compose.foundation.layout.Arrangement
import androidx.compose.foundation.layout.Column
import androidx.compose.foundation.layout.Row
import androidx.compose.foundation.layout.fillMaxSize
import androidx.compose.foundation.layout.fillMaxWidth
import androidx.compose.foundation.layout.padding
import androidx.compose.foundation.text.KeyboardOptions
import androidx.compose.material3.Button
import androidx.compose.material3.Card
import androidx.compose.material3.Checkbox
import androidx.compose.material3.MaterialTheme
import androidx.compose.material3.OutlinedButton
import androidx.compose.material3.OutlinedTextField
import androidx.compose.material3.Surface
import androidx.compose.material3.Text
import androidx.compose.material3.TextButton
import androidx.compose.runtime.Composable
import androidx.compose.runtime.LaunchedEffect
import androidx.compose.runtime.getValue
import androidx.compose.runtime.mutableStateOf
import androidx.compose.runtime.remember
import androidx.compose.runtime.rememberCoroutineScope
import androidx.compose.runtime.setValue
import androidx.compose.ui.Alignment
import androidx.compose.ui.Modifier
import androidx.compose.ui.res.stringResource
import androidx.compose.ui.text.input.KeyboardType
import androidx.compose.ui.text.input.PasswordVisualTransformation
import androidx.compose.ui.unit.dp
import androidx.lifecycle.compose.collectAsStateWithLifecycle
import kotlinx.coroutines.launch
import org.fengqiao.app.R
import org.fengqiao.app.state.LockState
import org.fengqiao.app.state.LoginState

/**
 * Covers the app while the data is locked. `biometricAvailable`: the phone
 * has an enrolled biometric (BiometricManager); `onBiometric` shows the
 * system prompt, whose result goes to [LockState.onBiometricResult]. Out of
 * PIN attempts, the password form ([login]) is the only way in.
 */
@Composable
fun LockScreen(lock: LockState, login: LoginState, biometricAvailable: Boolean, onBiometric: () -> Unit) {
    val ui by lock.ui.collectAsStateWithLifecycle()
    val scope = rememberCoroutineScope()
    // Offer the prompt at once when the lock screen appears.
    LaunchedEffect(ui.offerBiometric && biometricAvailable) {
        if (ui.offerBiometric && biometricAvailable) onBiometric()
    }
    Surface(Modifier.fillMaxSize()) {
        if (ui.passwordRequired) {
            Column {
                Text(
                    stringResource(R.string.lock_password_required),
                    Modifier.padding(24.dp),
                    color = MaterialTheme.colorScheme.error,
                )
                // A successful online login opens the phone again in the core.
                LoginScreen(login) { scope.launch { lock.refresh() } }
            }
        } else {
            PinEntry(lock, biometricAvailable, onBiometric)
        }
    }
}

@Composable
private fun PinEntry(lock: LockState, biometricAvailable: Boolean, onBiometric: () -> Unit) {
    val ui by lock.ui.collectAsStateWithLifecycle()
    val scope = rememberCoroutineScope()
    Column(
        Modifier.fillMaxSize().padding(24.dp),
        verticalArrangement = Arrangement.spacedBy(16.dp, Alignment.CenterVertically),
        horizontalAlignment = Alignment.CenterHorizontally,
    ) {
        Text(stringResource(R.string.lock_title), style = MaterialTheme.typography.headlineMedium)
        OutlinedTextField(
            value = ui.pin,
            onValueChange = lock::onPin,
            label = { Text(stringResource(R.string.lock_pin)) },
            singleLine = true,
            visualTransformation = PasswordVisualTransformation(),
            keyboardOptions = KeyboardOptions(keyboardType = KeyboardType.NumberPassword),
            modifier = Modifier.fillMaxWidth(),
        )
        if (ui.retryAfterSecs > 0uL) Text(stringResource(R.string.lock_wait, ui.retryAfterSecs.toInt()))
        if (ui.attemptsLeft < 10u) Text(stringResource(R.string.lock_attempts_left, ui.attemptsLeft.toInt()))
        ErrorBanner(ui.error)
        Button(
            onClick = { scope.launch { lock.submitPin() } },
            enabled = ui.canSubmit,
            modifier = Modifier.fillMaxWidth(),
        ) { Text(stringResource(R.string.lock_unlock)) }
        if (ui.offerBiometric && biometricAvailable) {
            OutlinedButton(onClick = onBiometric, modifier = Modifier.fillMaxWidth()) {
                Text(stringResource(R.string.lock_use_biometric))
            }
        }
    }
}

/** Set, change or remove the PIN that locks this user's data on this phone. */
@Composable
fun PinSettingsCard(lock: LockState) {
    val ui by lock.ui.collectAsStateWithLifecycle()
    val scope = rememberCoroutineScope()
    var pin by remember { mutableStateOf("") }
    var allowBiometric by remember { mutableStateOf(true) }
    LaunchedEffect(Unit) { lock.refresh() }
    Card(Modifier.fillMaxWidth()) {
        Column(Modifier.padding(12.dp), verticalArrangement = Arrangement.spacedBy(8.dp)) {
            Text(stringResource(R.string.lock_settings_title), style = MaterialTheme.typography.titleMedium)
            Text(stringResource(if (ui.pinSet) R.string.lock_pin_is_set else R.string.lock_pin_not_set))
            OutlinedTextField(
                value = pin,
                onValueChange = { v -> pin = v.filter(Char::isDigit) },
                label = { Text(stringResource(R.string.lock_new_pin)) },
                singleLine = true,
                visualTransformation = PasswordVisualTransformation(),
                keyboardOptions = KeyboardOptions(keyboardType = KeyboardType.NumberPassword),
                modifier = Modifier.fillMaxWidth(),
            )
            Row(verticalAlignment = Alignment.CenterVertically) {
                Checkbox(checked = allowBiometric, onCheckedChange = { allowBiometric = it })
                Text(stringResource(R.string.lock_allow_biometric))
            }
            ErrorBanner(ui.error)
            Row(horizontalArrangement = Arrangement.spacedBy(12.dp)) {
                Button(onClick = { scope.launch { if (lock.setPin(pin, allowBiometric)) pin = "" } }) {
                    Text(stringResource(R.string.lock_set_pin))
                }
                if (ui.pinSet) {
                    TextButton(onClick = { scope.launch { lock.clearPin() } }) { Text(stringResource(R.string.lock_clear_pin)) }
                }
            }
        }
    }
}
