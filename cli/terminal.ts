/** Colour and spinners only for a person at a terminal (docs/admin/scripting.md). */
export function colourWanted(json: boolean): boolean {
  // no-color.org: NO_COLOR counts when set to anything but the empty string.
  return !json && process.stdout.isTTY === true && !process.env.NO_COLOR && process.env.TERM !== 'dumb';
}

export function interactive(): boolean {
  return process.stdin.isTTY === true && process.stdout.isTTY === true;
}

/**
 * Whether a spinner can be drawn on stderr: a terminal that says how wide it is. A terminal of 0
 * columns (`stty cols 0`, `script` with piped input, some CI and cron wrappers) makes ora count
 * Infinity lines to clear and spin forever without yielding, so no signal could end the command.
 */
export function spinnerWanted(json: boolean, env: NodeJS.ProcessEnv = process.env): boolean {
  const {isTTY, columns} = process.stderr;
  return !json && interactive() && isTTY === true && columns > 0 && !env.CI && env.TERM !== 'dumb';
}
