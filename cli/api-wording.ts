/**
 * The services' messages are written for the CLI ("use --no-gpu", "see \"sandman session ls\"").
 * An API client never typed a flag: this table is the one place that says what each of those words
 * is called in the API (docs/admin/http-api.md), and the HTTP door passes every error message through it.
 */
const API_WORDS: Array<[RegExp, string]> = [
  [/--mig-instance\b/g, 'mig_instance_uuid'],
  [/--profile\b/g, 'mig_profile'],
  [/--no-gpu\b/g, '"gpu": "none"'],
  [/--gpu\b/g, 'gpu'],
  [/--ttl\b/g, 'ttl_minutes'],
  [/--image\b/g, 'image'],
  [/--node\b/g, 'node'],
  [/\bTTL\b/g, 'ttl_minutes'],
  [/\buser name\b/g, 'user_id'],
  [/"sandman session ls"/g, 'GET /sessions'],
  [/"sandman gpu ls"/g, 'GET /gpus'],
  [/"sandman session rm ([0-9a-f]+)"/g, 'DELETE /sessions/$1'],
];

export function inApiWords(message: string): string {
  return API_WORDS.reduce((text, [pattern, word]) => text.replace(pattern, word), message);
}
