/** A failure the user caused (a missing file, a bad combination of flags): reported as one line, exit code 1. */
export class UsageError extends Error {}
