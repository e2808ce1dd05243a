import {invalidInput} from '../../src/core/errors.js';
import type {Handler} from '../../cli/command-spec.js';

const logs: Handler = async (
  {args, flags},
  context,
): Promise<{session_id: string; logs: string} | undefined> => {
  if (flags.follow && context.out.json) throw invalidInput('--follow cannot be combined with --json');
  const services = context.services();
  const session = await (await services.sessionQueries()).find(args.session!);
  const stream = await (
    await services.containers()
  ).logs(session.container_id ?? session.container_name, {
    follow: flags.follow === true,
    tail: flags.tail as number | undefined,
  });
  if (!context.out.json) {
    stream.pipe(process.stdout);
    await new Promise((resolve) => stream.on('end', resolve));
    return undefined;
  }
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk as Buffer));
  return {session_id: session.id, logs: Buffer.concat(chunks).toString('utf8')};
};
export default logs;
