// The Fengqiao Android app. Open this folder in Android Studio (or run
// `gradle wrapper` once, then `./gradlew :app:assembleDebug`). Build the core
// first: `./build-core.sh` (cargo-ndk into app/src/main/jniLibs, and the
// Kotlin bindings into ../bindings/generated/kotlin).
pluginManagement {
    repositories {
        google()
        mavenCentral()
        gradlePluginPortal()
    }
}

dependencyResolutionManagement {
    repositoriesMode.set(RepositoriesMode.FAIL_ON_PROJECT_REPOS)
    repositories {
        google()
        mavenCentral()
    }
}

rootProject.name = "fengqiao"
include(":app")
