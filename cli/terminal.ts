/** Colour and spinners only for a person at a terminal (README "Scripting"). */
export function colourWanted(json: boolean): boolean {
  // no-color.org: NO_COLOR counts when set to anything but the empty string.
  return !json && process.stdout.isTTY === true && !process.env.NO_COLOR && process.env.TERM !== 'dumb';
}

export function interactive(): boolean {
  return process.stdin.isTTY === true && process.stdout.isTTY === true;
}
