// Preloaded into a child process (`node --import ./rss-probe.mjs …`): writes the process's peak
// resident set size, in KiB, to the file named by TTA_RSS_FILE when it exits — also through
// process.exit(), which is how the CLI ends after a refusal.
import { writeFileSync } from 'node:fs'

const file = process.env.TTA_RSS_FILE
if (file !== undefined && file !== '') {
  process.on('exit', () => writeFileSync(file, String(process.resourceUsage().maxRSS)))
}
