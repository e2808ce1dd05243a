// Preloaded with `node --import` by the benchmark: reports the process's peak resident set size.
process.on('exit', () => {
  process.stderr.write(`peak-rss-kib ${process.resourceUsage().maxRSS}\n`);
});
