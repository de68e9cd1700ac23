/** Progress lines on stderr, so stdout stays the report. */
export const progress = (label: string) => (round: number, rounds: number): void => {
  process.stderr.write(`  ${label}: round ${round}/${rounds}\n`)
}
