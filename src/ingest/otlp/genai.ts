// From a GenAI span (OpenTelemetry GenAI semantic conventions) to a Steward usage event, priced like
// any other usage (docs/telemetry.md, "Mapping GenAI spans"):
//
// | usage event       | span attribute                                                      |
// | model             | gen_ai.response.model, else gen_ai.request.model, else 'unknown'    |
// | inputTokens       | gen_ai.usage.input_tokens (deprecated: gen_ai.usage.prompt_tokens)  |
// | outputTokens      | gen_ai.usage.output_tokens (deprecated: gen_ai.usage.completion_tokens) |
// | cacheReadTokens   | gen_ai.usage.cache_read.input_tokens                                |
// | cacheWriteTokens  | gen_ai.usage.cache_creation.input_tokens                            |
// | reasoningTokens   | gen_ai.usage.reasoning.output_tokens                                |
// | operation         | gen_ai.operation.name                                               |
// | provider          | gen_ai.provider.name (deprecated: gen_ai.system)                    |
// | durationMs, ts    | end − start, the span's end                                         |
//
// A span makes a usage event when it carries a token count. Not counted: an in-process agent's span
// (`invoke_agent`, span kind INTERNAL), whose tokens sum its own model calls, each a span of its own
// (a remote agent's `invoke_agent` CLIENT span is the only record of its tokens, and counts).
// Under the conventions input tokens include the cache tokens and output tokens include reasoning:
// a span whose subsets exceed their total is refused rather than priced twice.
import type { UsageDraft } from './drafts.ts'
import { type AnyValue, attribute, int64, type KeyValue, stringAttribute } from './values.ts'

const SPAN_KIND_INTERNAL = 1

const TOKENS = {
  inputTokens: ['gen_ai.usage.input_tokens', 'gen_ai.usage.prompt_tokens'],
  outputTokens: ['gen_ai.usage.output_tokens', 'gen_ai.usage.completion_tokens'],
  cacheReadTokens: ['gen_ai.usage.cache_read.input_tokens'],
  cacheWriteTokens: ['gen_ai.usage.cache_creation.input_tokens'],
  reasoningTokens: ['gen_ai.usage.reasoning.output_tokens'],
} as const
type TokenField = keyof typeof TOKENS

/** A token count: a whole number ≥ 0 (an int, or a double without fraction); else why not. */
function count(v: AnyValue, key: string): number | string {
  let n: number
  if (v.value === 'intValue') n = Number(int64(v.intValue))
  else if (v.value === 'doubleValue') n = v.doubleValue ?? Number.NaN
  else return `${key} must be a number of tokens`
  if (!Number.isSafeInteger(n) || n < 0) return `${key} must be a whole number of tokens ≥ 0, not ${n}`
  return n
}

export interface SpanTimes {
  kind: number
  startMs: number
  endMs: number
  /** End − start in ms, to the nanosecond (negative when the span ends before it starts). */
  durationMs: number
}

/** The usage of a GenAI span (undefined: the span carries no tokens to count), or why it is refused. */
export function genAiUsage(attributes: KeyValue[], span: SpanTimes): UsageDraft | string | undefined {
  const tokens: Partial<Record<TokenField, number>> = {}
  for (const field of Object.keys(TOKENS) as TokenField[]) {
    for (const key of TOKENS[field]) {
      const v = attribute(attributes, key)
      if (!v) continue
      const n = count(v, key)
      if (typeof n === 'string') return n
      tokens[field] = n
      break
    }
  }
  if (Object.keys(tokens).length === 0) return undefined
  const operation = stringAttribute(attributes, 'gen_ai.operation.name')
  if (operation === 'invoke_agent' && span.kind === SPAN_KIND_INTERNAL) return undefined
  const model =
    stringAttribute(attributes, 'gen_ai.response.model') ||
    stringAttribute(attributes, 'gen_ai.request.model') ||
    'unknown'
  const provider =
    stringAttribute(attributes, 'gen_ai.provider.name') || stringAttribute(attributes, 'gen_ai.system')
  for (const [what, text] of [
    ['model', model],
    ['gen_ai.operation.name', operation],
    ['gen_ai.provider.name', provider],
  ] as const)
    if (text.length > 128) return `${what} is longer than 128 characters`
  const u = {
    inputTokens: tokens.inputTokens ?? 0,
    outputTokens: tokens.outputTokens ?? 0,
    cacheReadTokens: tokens.cacheReadTokens ?? 0,
    cacheWriteTokens: tokens.cacheWriteTokens ?? 0,
    reasoningTokens: tokens.reasoningTokens ?? 0,
  }
  if (u.cacheReadTokens + u.cacheWriteTokens > u.inputTokens)
    return `its cache tokens (gen_ai.usage.cache_read.input_tokens ${u.cacheReadTokens} + cache_creation.input_tokens ${u.cacheWriteTokens}) exceed gen_ai.usage.input_tokens (${u.inputTokens}), which includes them`
  if (u.reasoningTokens > u.outputTokens)
    return `gen_ai.usage.reasoning.output_tokens (${u.reasoningTokens}) exceeds gen_ai.usage.output_tokens (${u.outputTokens}), which includes them`
  const end = span.endMs > 0 ? span.endMs : span.startMs
  return {
    type: 'usage',
    eventId: '',
    ts: new Date(end).toISOString(),
    model,
    ...u,
    operation,
    provider,
    ...(span.durationMs >= 0 && span.startMs > 0 && span.endMs > 0 && { durationMs: span.durationMs }),
  }
}
