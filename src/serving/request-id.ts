/**
 * Request ids: what a caller may send (the `x-request-id` header, an OIP v2 body's `id`) and later
 * names again to attach ground truth (POST /predictions/{requestId}/ground-truth). One limit for
 * every route, so an id /predict accepts is one the ground-truth route accepts too; a longer one is
 * refused with 400 in the scorer's error shape, never replaced silently.
 */
import { ValidationError } from '../errors.js';

/** The longest request id the scorer takes (a UUID is 36; W3C trace ids are 32). */
export const MAX_REQUEST_ID_LENGTH = 128;

/** Refuses an empty request id or one longer than the limit, naming where it came from and the limit. */
export function checkRequestId(id: string, where: string): string {
  if (id.length === 0) throw new ValidationError(`The request id in ${where} is empty; request ids are 1 to ${MAX_REQUEST_ID_LENGTH} characters.`);
  if (id.length > MAX_REQUEST_ID_LENGTH) {
    throw new ValidationError(`The request id in ${where} has ${id.length} characters; request ids are at most ${MAX_REQUEST_ID_LENGTH}.`, {
      length: id.length,
      maxLength: MAX_REQUEST_ID_LENGTH,
    });
  }
  return id;
}
