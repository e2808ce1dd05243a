// Loads the fast door (dist/fast/fast.cjs, one CommonJS file built by scripts/bundle.mjs) through a
// V8 code cache kept per command. Node 20 has no compile cache of its own for modules, and without
// one every run parses and compiles the door again: most of a Docker-free command's time beyond
// Node's start (BENCHMARKS.md, issue 30's third part). A cache holds the functions the command ran,
// so the next run of that command compiles almost nothing.
//
// Where caches live: the package's own dist/.compile-cache, as trusted as the code beside it (root
// runs sandman, the reaper every minute; a cache in a directory another user can write would be
// code for root to run). Where sandman cannot write there (a user without root running a global
// install), the user's own cache directory ($XDG_CACHE_HOME or ~/.cache, then sandman/); never for
// root, whose HOME or XDG_CACHE_HOME may be another user's (sudo -E).
'use strict';
const {mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync} = require('node:fs');
const {createRequire, wrap} = require('node:module');
const os = require('node:os');
const path = require('node:path');
const vm = require('node:vm');

/**
 * The fast door's runFast, compiled with the command's code cache when there is one, and
 * keepCache(): called once the door has run the command, it makes the cache that was missing, or
 * that V8 refused, or that a failed run made, as the process ends.
 */
function loadFastDoor(root, argv) {
  const dir = path.join(root, 'dist', 'fast');
  const file = path.join(dir, 'fast.cjs');
  const built = JSON.parse(readFileSync(path.join(dir, 'door.json'), 'utf8'));
  const command = `fast-${commandOf(built.commands, argv)}.`;
  // V8 checks a cache against the source's length, its own version and some of its flags: the
  // build's hash in the name keeps a cache from meeting another build of the same length, and
  // Node's flags in it let two ways of running sandman (a unit's NODE_OPTIONS) keep one each.
  const flags = [...process.execArgv, process.env.NODE_OPTIONS ?? ''].join(' ').trim();
  const stem = `${command}${built.build}.node${process.versions.node}-${process.arch}${
    flags ? `.${hashOf(flags)}` : ''
  }`;
  // A run that failed (exit 3, 6, ...) caches what it compiled as "partial": enough to skip parsing
  // the door; the next run that succeeds makes the full one.
  const full = `${stem}.bin`;
  const partial = `${stem}.partial.bin`;
  const places = [path.join(root, 'dist', '.compile-cache')];
  if (process.getuid?.() !== 0) places.push(userCacheDir());
  const found = read(places, full) ?? read(places, partial);
  // Read as latin1: the file is ASCII (the build checks), and UTF-8 decoding of 2 MB costs more.
  const script = new vm.Script(wrap(readFileSync(file, 'latin1')), {
    filename: file,
    cachedData: found?.data,
  });
  const door = {exports: {}};
  script.runInThisContext().call(door.exports, door.exports, createRequire(file), door, file, dir);
  const keepCache = () => {
    const usable = found !== undefined && !script.cachedDataRejected;
    if (usable && found.name === full) return;
    // After the command's work, so that the cache holds what it compiled (`--help`, which oclif
    // answers, never comes here).
    process.once('exit', (code) => {
      if (code === 0) save(places, command, built.build, full, script.createCachedData());
      else if (!usable) save(places, command, built.build, partial, script.createCachedData());
    });
  };
  return {runFast: door.exports.runFast, keepCache};
}

/** The command's words joined ("session-create"), or "other": never an argument's value. */
function commandOf(commands, argv) {
  let found;
  for (const words of commands) {
    if (words.every((word, index) => argv[index] === word) && words.length > (found?.length ?? 0)) {
      found = words;
    }
  }
  return found ? found.join('-') : 'other';
}

/** Eight hex digits of a string's SHA-256 (node:crypto only loaded when Node has flags). */
function hashOf(text) {
  const {createHash} = require('node:crypto');
  return createHash('sha256').update(text).digest('hex').slice(0, 8);
}

function userCacheDir() {
  return path.join(process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache'), 'sandman');
}

function read(places, name) {
  for (const place of places) {
    try {
      return {name, data: readFileSync(path.join(place, name))};
    } catch {
      // not cached there
    }
  }
  return undefined;
}

/**
 * Writes the cache in the first place that takes it (written beside, then renamed: concurrent runs
 * each write a whole file), and removes that command's caches there from other builds and the
 * partial one a full one replaces.
 */
function save(places, command, build, name, data) {
  for (const place of places) {
    const temporary = path.join(place, `.${name}.${process.pid}`);
    try {
      mkdirSync(place, {recursive: true, mode: 0o700});
      writeFileSync(temporary, data, {mode: 0o644});
      renameSync(temporary, path.join(place, name));
      const replaced = name.replace(/\.bin$/, '.partial.bin');
      for (const other of readdirSync(place)) {
        if (other.startsWith(command) && (!other.includes(`.${build}.`) || other === replaced)) {
          rmSync(path.join(place, other), {force: true});
        }
      }
      return;
    } catch {
      // Not writable here (a global install without root): the next place, else no cache.
      try {
        rmSync(temporary, {force: true});
      } catch {
        // nothing was written
      }
    }
  }
}

module.exports = {loadFastDoor};
