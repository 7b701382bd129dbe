/**
 * The AI domain's errors: AppErrors (code + message + what to do) with a finer `reason` the UI
 * and the CLI can switch on. The shared error codes are not extended (parallel work on
 * src/shared); the reason travels in the message's data instead.
 */
import { AppError, ErrorCode } from '../../shared/errors';

export type AiErrorReason =
  | 'NO_MODEL_INSTALLED'
  | 'MODEL_NOT_FOUND'
  | 'MODEL_FOLDER_INCOMPLETE'
  | 'MODEL_CARD_INVALID'
  | 'MODEL_UNLOADABLE'
  | 'MODEL_CARD_MISMATCH'
  | 'MODEL_FILE_CHANGED'
  | 'INFERENCE_FAILED';

export class AiError extends AppError {
  constructor(
    readonly reason: AiErrorReason,
    code: ErrorCode,
    message: string,
    hint?: string,
    /** Every problem found, when there are several (card validation, shape checks). */
    readonly problems: string[] = [],
  ) {
    super(code, message, hint);
    this.name = 'AiError';
  }
}

export const HOW_TO_ADD_A_MODEL = 'Settings → AI models, or `medimgshr model add <folder>` (a folder with model.onnx and card.json; see docs/ai.md).';

export function noModelInstalled(): AiError {
  return new AiError(
    'NO_MODEL_INSTALLED',
    ErrorCode.Unavailable,
    `No AI model is installed: ${HOW_TO_ADD_A_MODEL}`,
    'MedImgShr ships no model: a clinic installs the model it has validated, with its model card.',
  );
}

export function modelNotFound(id: string): AiError {
  return new AiError('MODEL_NOT_FOUND', ErrorCode.NotFound, `No installed AI model has the id ${id}.`, 'List the installed models with `medimgshr model list`.');
}

export function cardInvalid(problems: string[]): AiError {
  return new AiError(
    'MODEL_CARD_INVALID',
    ErrorCode.InvalidArgument,
    `The model card (card.json) is not valid: ${problems.join('; ')}.`,
    'Fix card.json as described in docs/ai.md and add the model again.',
    problems,
  );
}

export function cardMismatch(problems: string[]): AiError {
  return new AiError(
    'MODEL_CARD_MISMATCH',
    ErrorCode.InvalidArgument,
    `The model does not match its card: ${problems.join('; ')}.`,
    'Correct card.json (input/output names and sizes) or export the model again, then add it again.',
    problems,
  );
}
