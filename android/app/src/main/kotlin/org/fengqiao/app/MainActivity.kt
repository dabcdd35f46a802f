// The one activity: asks for the notification permission (Android 13+, for
// the sync progress) and shows the navigation.
package org.fengqiao.app

import android.Manifest
import android.os.Build
import android.os.Bundle
import androidx.activity.ComponentActivity
import androidx.activity.compose.setContent
import androidx.activity.enableEdgeToEdge
import androidx.activity.result.contract.ActivityResultContracts
import androidx.compose.foundation.isSystemInDarkTheme
import androidx.compose.material3.MaterialTheme
import androidx.compose.material3.darkColorScheme
import androidx.compose.material3.lightColorScheme
import androidx.compose.runtime.Composable
import androidx.compose.runtime.LaunchedEffect
import androidx.compose.runtime.getValue
import androidx.compose.runtime.mutableStateOf
import androidx.compose.runtime.remember
import androidx.compose.runtime.setValue
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.withContext
import org.fengqiao.app.ui.FengqiaoNavigation

class MainActivity : ComponentActivity() {
    private val askNotifications = registerForActivityResult(ActivityResultContracts.RequestPermission()) { }

    override fun onCreate(savedInstanceState: Bundle?) {
        super.onCreate(savedInstanceState)
        enableEdgeToEdge()
        if (Build.VERSION.SDK_INT >= Build.VERSION_CODES.TIRAMISU) {
            askNotifications.launch(Manifest.permission.POST_NOTIFICATIONS)
        }
        val container = (application as FengqiaoApp).container
        setContent {
            FengqiaoTheme {
                // Opening the store is disk work: do it off the main thread, then show the app.
                var signedIn by remember { mutableStateOf<Boolean?>(null) }
                LaunchedEffect(Unit) { signedIn = withContext(Dispatchers.IO) { container.core.currentUser() != null } }
                signedIn?.let { FengqiaoNavigation(container, it) }
            }
        }
    }
}

@Composable
private fun FengqiaoTheme(content: @Composable () -> Unit) {
    MaterialTheme(colorScheme = if (isSystemInDarkTheme()) darkColorScheme() else lightColorScheme(), content = content)
}
