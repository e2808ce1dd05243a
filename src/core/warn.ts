/** A warning for the person or log running sandman (stderr): never fails the action. */
export type Warn = (message: string) => void;
