// Failures of the store that a user must act on: a file that is not ours, a newer schema, a
// row that does not decode. Each message names the file, and the run and seq where there is one.
export class StoreError extends Error {
  override readonly name = 'StoreError'
}
