/** Shows argv as one would type it in sh, so an argument holding spaces or quotes reads unambiguously. */
export function shellQuote(argv: readonly string[]): string {
  return argv.map((arg) => (/^[A-Za-z0-9_+=.,/:@%-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`)).join(" ");
}
