/** Every operator command can print the API's JSON, for scripts, instead of its table. */
export const jsonFlag = {
  json: { type: "boolean", description: "print the API's JSON reply instead of the table" },
} as const;

/** The edge's body as it came, ending in one newline. */
export function writeRaw(raw: string): void {
  process.stdout.write(raw.endsWith("\n") ? raw : `${raw}\n`);
}
