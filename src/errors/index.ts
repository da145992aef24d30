export { ERROR_CATALOGUE, renderErrorsMarkdown, type ErrorCode, type ErrorSpec } from './catalogue.js';
export { GatewayError, isGatewayError, type GatewayErrorOptions } from './gateway-error.js';
export { PROBLEM_CONTENT_TYPE, problemBody, toProblem, type ProblemDocument } from './problem.js';
