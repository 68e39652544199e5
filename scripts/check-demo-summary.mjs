// Reads the output of `npm start -- --json` on stdin and fails unless its last line is a summary in
// which every committed event was delivered or dead-lettered. CI runs the demo through it.
let input = '';
process.stdin.on('data', (chunk) => {
  input += chunk;
});
process.stdin.on('end', () => {
  const last = input.trim().split('\n').at(-1) ?? '';
  let summary;
  try {
    summary = JSON.parse(last);
  } catch {
    console.error(`the demo's last line is not JSON: ${last}`);
    process.exit(1);
  }
  const problems = [];
  for (const field of [
    'committed',
    'delivered',
    'deadLettered',
    'lost',
    'duplicatesSkipped',
    'retried',
    'eventsPerSecond',
  ]) {
    if (typeof summary[field] !== 'number') problems.push(`${field} is missing`);
  }
  if (summary.lost !== 0) problems.push(`lost is ${summary.lost}`);
  if (summary.delivered + summary.deadLettered !== summary.committed)
    problems.push('delivered + deadLettered is not committed');
  if (summary.deadLettered < 1) problems.push('the poison event did not reach the failed handler');
  if (problems.length > 0) {
    console.error(`demo summary is wrong: ${problems.join('; ')}\n${last}`);
    process.exit(1);
  }
  console.log(`demo: ${last}`);
});
