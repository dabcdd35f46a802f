// Times and days as the county reads them: the core formats them in the
// county's zone (its policy's `county.timezone`), never the phone's, so a
// deadline or a visit reads the same on every phone and on the desk. Plain
// Kotlin: tested on the JVM by tests/kotlin-jvm.sh.
package org.fengqiao.app.state

import org.fengqiao.core.FieldClient
import org.fengqiao.core.MessageLocale

/** The county's clock face over the core: `YYYY-MM-DD HH:MM` and `YYYY-MM-DD`. */
class CountyTime(private val client: FieldClient) {
    /** A time (ms since the epoch) in the county's zone. */
    fun time(ms: Long): String = client.formatTime(ms)

    /** A day (ms since the epoch) in the county's zone. */
    fun date(ms: Long): String = client.formatDate(ms)
}

/** The core's message language for a device language tag (`zh…` or anything else not English: Chinese). */
fun messageLocaleFor(languageTag: String): MessageLocale =
    if (languageTag.lowercase().startsWith("en")) MessageLocale.EN else MessageLocale.ZH_CN
