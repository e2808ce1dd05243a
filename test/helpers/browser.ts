import {mkdir} from 'node:fs/promises';
import path from 'node:path';

import {chromium, type Browser} from 'playwright-core';

import {ROOT} from './constants.js';

/** Debian's chromium, as .ci/run installs it; no browser is downloaded. */
export const CHROMIUM = process.env.SANDMAN_TEST_CHROMIUM ?? '/usr/bin/chromium';

/** Screenshots the browser tests take (CI artifacts); README's is copied from here. */
export const SCREENSHOTS = path.join(ROOT, 'test/artifacts/screenshots');

/**
 * Headless Chromium driven by playwright-core. This machine has no network beyond its registries:
 * the flags keep Chromium from reaching for Google's services at start.
 */
export async function launchChromium(): Promise<Browser> {
  await mkdir(SCREENSHOTS, {recursive: true});
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}
