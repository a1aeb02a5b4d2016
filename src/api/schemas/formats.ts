/** The `instant` string format of `start` and `end`: registered with the validator in `plugins/validation.ts`. */
export const INSTANT_FORMAT = 'instant'
