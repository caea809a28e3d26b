// fast-check's seed for every property of a run, loaded by ava before each test file (package.json "require").
// `npm test` fixes it (scripts/test.sh), so the suite and CI are reproducible: a red run is red again with the
// same seed. `npm run fuzz` leaves it random to keep exploring; fast-check prints the seed of a failure, and
// TSNET_FUZZ_SEED=<that seed> replays it.
import fc from 'fast-check';

const configured = process.env.TSNET_FUZZ_SEED;
if (configured !== undefined && configured !== '' && configured !== 'random') {
  const seed = Number(configured);
  if (!Number.isSafeInteger(seed))
    throw new Error(`TSNET_FUZZ_SEED must be an integer or "random", not ${configured}`);
  fc.configureGlobal({ seed });
}
