import {spinnerWanted} from './terminal.js';

export interface Spinner {
  /** Updates the text (used as the services' progress callback). */
  text: (step: string) => void;
  stop: () => void;
}

/** An ora spinner on stderr for a person at a terminal; silent otherwise (scripts, --json, no width). */
export async function startSpinner(json: boolean, text: string): Promise<Spinner> {
  if (!spinnerWanted(json)) return {text: () => undefined, stop: () => undefined};
  const {default: ora} = await import('ora');
  const spinner = ora({text, stream: process.stderr}).start();
  return {
    text: (step: string) => {
      spinner.text = step;
    },
    stop: () => spinner.stop(),
  };
}
