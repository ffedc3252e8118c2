/** A `$(...)` substitution (or its `$(eval ...)` expression) that cannot be resolved; its own file so eval.ts and substitutions.ts need not import each other. */
export class SubstitutionError extends Error {
  constructor(detail: string) {
    super(detail);
    this.name = 'SubstitutionError';
  }
}
