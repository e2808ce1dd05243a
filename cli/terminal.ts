/** Colour and spinners only for a person at a terminal (SPEC.md section 1). */
export function colourWanted(json: boolean): boolean {
  return (
    !json &&
    process.stdout.isTTY === true &&
    process.env.NO_COLOR === undefined &&
    process.env.TERM !== 'dumb'
  );
}

export function interactive(): boolean {
  return process.stdin.isTTY === true && process.stdout.isTTY === true;
}
