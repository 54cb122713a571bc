/**
 * A malformed export or float model. `field` names where the problem is
 * (e.g. "model.json: layers[3].outShape", "weights.bin"), and the message
 * starts with it.
 */
export class ExportFormatError extends Error {
  readonly field: string;
  constructor(field: string, message: string) {
    super(`${field}: ${message}`);
    this.name = "ExportFormatError";
    this.field = field;
  }
}
