// The app module: Compose UI over the Rust core (UniFFI bindings, loaded with JNA).
plugins {
    id("com.android.application")
    id("org.jetbrains.kotlin.android")
    id("org.jetbrains.kotlin.plugin.compose")
}

fun prop(name: String, default: String): String = (project.findProperty(name) as String?) ?: default

android {
    namespace = "org.fengqiao.app"
    compileSdk = 35

    defaultConfig {
        applicationId = "org.fengqiao.app"
        // Android 8.0: adaptive notification channels, java.time, and the
        // phones county field staff actually carry.
        minSdk = 26
        targetSdk = 35
        versionCode = 1
        versionName = "0.1.0"
        buildConfigField("String", "SERVER_URL", "\"${prop("fengqiao.serverUrl", "https://fengqiao.example.gov.cn")}\"")
        // The county's server key pins, comma-separated `sha256/<base64>` (docs/OPERATIONS.md, TLS).
        buildConfigField("String", "SERVER_PINS", "\"${prop("fengqiao.serverPins", "")}\"")
        ndk {
            // The ABIs build-core.sh builds.
            abiFilters += listOf("arm64-v8a", "armeabi-v7a", "x86_64")
        }
    }

    buildTypes {
        debug {
            buildConfigField("String", "SERVER_URL", "\"${prop("fengqiao.debugServerUrl", "http://10.0.2.2:8080")}\"")
        }
        release {
            isMinifyEnabled = true
            proguardFiles(getDefaultProguardFile("proguard-android-optimize.txt"), "proguard-rules.pro")
        }
    }

    buildFeatures {
        compose = true
        buildConfig = true
    }

    compileOptions {
        sourceCompatibility = JavaVersion.VERSION_17
        targetCompatibility = JavaVersion.VERSION_17
    }

    sourceSets {
        getByName("main") {
            // The app's sources, and the Kotlin bindings generated from the
            // core (package org.fengqiao.core; build-core.sh or
            // ../bindings/build.sh writes them; not committed).
            java.srcDirs("src/main/kotlin", "../../bindings/generated/kotlin")
            // libfengqiao_bindings.so per ABI, from build-core.sh.
            jniLibs.srcDirs("src/main/jniLibs")
        }
    }

    packaging {
        jniLibs {
            // JNA's own native stubs come from its AAR; keep our .so uncompressed for mmap.
            useLegacyPackaging = false
        }
    }
}

kotlin {
    jvmToolchain(17)
}

// Fail early with a clear message when the core was not built.
val checkCore by tasks.registering {
    doLast {
        val bindings = file("../../bindings/generated/kotlin/org/fengqiao/core/fengqiao_bindings.kt")
        val lib = file("src/main/jniLibs/arm64-v8a/libfengqiao_bindings.so")
        if (!bindings.exists() || !lib.exists()) {
            throw GradleException("The Rust core is not built: run android/build-core.sh first")
        }
    }
}
tasks.named("preBuild") { dependsOn(checkCore) }

dependencies {
    val composeBom = platform("androidx.compose:compose-bom:2024.12.01")
    implementation(composeBom)
    implementation("androidx.compose.ui:ui")
    implementation("androidx.compose.ui:ui-tooling-preview")
    implementation("androidx.compose.material3:material3")
    implementation("androidx.compose.material:material-icons-extended")
    debugImplementation("androidx.compose.ui:ui-tooling")

    implementation("androidx.core:core-ktx:1.15.0")
    implementation("androidx.activity:activity-compose:1.9.3")
    implementation("androidx.lifecycle:lifecycle-runtime-compose:2.8.7")
    implementation("androidx.lifecycle:lifecycle-viewmodel-compose:2.8.7")
    // ProcessLifecycleOwner: lock the user's data when the app goes to the background.
    implementation("androidx.lifecycle:lifecycle-process:2.8.7")
    implementation("androidx.lifecycle:lifecycle-runtime-ktx:2.8.7")
    // BiometricPrompt for the lock screen (MainActivity is a FragmentActivity for it).
    implementation("androidx.biometric:biometric:1.1.0")
    implementation("androidx.fragment:fragment-ktx:1.8.5")
    implementation("androidx.navigation:navigation-compose:2.8.5")
    implementation("androidx.work:work-runtime-ktx:2.10.0")
    implementation("org.jetbrains.kotlinx:kotlinx-coroutines-android:1.9.0")

    // UniFFI's Kotlin bindings call the core through JNA (the AAR carries JNA's native part per ABI).
    implementation("net.java.dev.jna:jna:5.13.0@aar")
}
