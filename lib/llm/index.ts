export { LlmEngine, EngineBusyError, checkModel, getKestrelLlama, type LlmConfig, type PromptParts, type GenerateOptions, type GenerationResult, type StopReason, type PredictorKind, type TemplateKind, type GrammarKind, type LlmEngineApi, type LlmGrammar, type RemoteGrammar } from './engine.js';
export { ProcessLlmEngine } from './process-engine.js';
export { checkGguf, ModelFileError, ModelTooLargeError, type GgufSummary } from './gguf-check.js';
export { shapeToGbnf, shapeToJsonSchema, validateShape, parseOutput, SchemaError, OutputParseError, type JsonShape, type JsonValue } from './grammar.js';
export { LLM_PARAMS, engineConfig, resolveModelPath, grammarKind, usesKestrelFormat, DEFAULT_MODEL_PATH, KESTREL_LM_PATH, KESTREL_PROMPT_FORMAT, type TinyModelSource } from './params.js';
