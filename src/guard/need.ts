/** Thrown by a synchronous reader that needs a parser not loaded yet (`shell`, `graphql`, `sql:<dialect>`). */
export class NeedParser extends Error {
  constructor(readonly which: string) {
    super(`parser ${which} is not loaded`);
  }
}
