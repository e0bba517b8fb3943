import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { onnx } from 'onnx-proto';
import { tensorValue } from '../../engines/predictors/onnx-graph';

/**
 * A BERT-shaped model small enough to build in a test: a WordPiece tokenizer over a few dozen on-call words
 * and an ONNX graph whose `last_hidden_state` is just each token's row of a fixed embedding table (zeroed
 * where the attention mask is 0). Because every row is known, a test can predict a pooled embedding exactly
 * and so prove that text really went through the tokenizer and onnxruntime.
 */

export const TINY_MODEL_NAME = 'tiny-bert';
export const TINY_MODEL_DIMENSIONS = 8;

const SPECIAL_TOKENS = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'] as const;
// prettier-ignore -- one word per line would bury the vocabulary.
const WORDS = [
  'the',
  'disk',
  'is',
  'full',
  'on',
  'host',
  'restart',
  'service',
  'pod',
  'node',
  'memory',
  'cpu',
  'high',
  'latency',
  'error',
  'rate',
  'deploy',
  'rollback',
  'database',
  'connection',
  'pool',
  'exhausted',
  'certificate',
  'expired',
  'queue',
  'backlog',
  'alert',
  'page',
  'runbook',
  'redis',
  'cache',
  'miss',
  'timeout',
  'dns',
  'lookup',
  'failed',
  'network',
  'partition',
  'load',
  'balancer',
  'unhealthy',
  'scale',
  'up',
  'down',
  'kafka',
  'consumer',
  'lag',
];

/** Token strings in id order: the id of a token is its index here. */
const TINY_VOCABULARY: readonly string[] = [...SPECIAL_TOKENS, ...WORDS];

export function tinyTokenId(token: string): number {
  const id = TINY_VOCABULARY.indexOf(token);
  if (id < 0) throw new Error(`"${token}" is not in the tiny vocabulary`);
  return id;
}

/** The embedding table the graph gathers from, row per token id. Float32, so the test compares against the
 * very values onnxruntime reads. Rows are consecutive sine samples: deterministic and all different. */
const TINY_EMBEDDING_TABLE: Float32Array = Float32Array.from(
  { length: TINY_VOCABULARY.length * TINY_MODEL_DIMENSIONS },
  (_, i) => Math.sin(1 + i),
);

export function tinyEmbeddingRow(tokenId: number): Float32Array {
  const start = tokenId * TINY_MODEL_DIMENSIONS;
  return TINY_EMBEDDING_TABLE.slice(start, start + TINY_MODEL_DIMENSIONS);
}

/** Writes `<rootDir>/tiny-bert/` in the layout transformers.js loads and returns that folder. */
export async function writeTinyTransformerModel(rootDir: string): Promise<string> {
  const modelDir = path.join(rootDir, TINY_MODEL_NAME);
  await mkdir(path.join(modelDir, 'onnx'), { recursive: true });
  await Promise.all([
    writeJson(path.join(modelDir, 'config.json'), modelConfig()),
    writeJson(path.join(modelDir, 'tokenizer.json'), tokenizerDefinition()),
    writeJson(path.join(modelDir, 'tokenizer_config.json'), tokenizerConfig()),
    // fp32 is the dtype the provider asks for unless `quantized`, and transformers.js maps fp32 to no suffix.
    writeFile(
      path.join(modelDir, 'onnx', 'model.onnx'),
      onnx.ModelProto.encode(embeddingLookupModel()).finish(),
    ),
  ]);
  return modelDir;
}

function writeJson(file: string, value: unknown): Promise<void> {
  return writeFile(file, JSON.stringify(value, null, 2));
}

function modelConfig() {
  // "bert" selects BertModel, an encoder-only model whose single session is onnx/model<suffix>.onnx.
  return {
    model_type: 'bert',
    architectures: ['BertModel'],
    hidden_size: TINY_MODEL_DIMENSIONS,
    num_attention_heads: 1,
    num_hidden_layers: 0,
    vocab_size: TINY_VOCABULARY.length,
    max_position_embeddings: 64,
    pad_token_id: tinyTokenId('[PAD]'),
  };
}

function tokenizerDefinition() {
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: SPECIAL_TOKENS.map((content) => ({
      id: tinyTokenId(content),
      content,
      single_word: false,
      lstrip: false,
      rstrip: false,
      normalized: false,
      special: true,
    })),
    normalizer: {
      type: 'BertNormalizer',
      clean_text: true,
      handle_chinese_chars: true,
      strip_accents: null,
      lowercase: true,
    },
    pre_tokenizer: { type: 'BertPreTokenizer' },
    post_processor: {
      type: 'BertProcessing',
      cls: ['[CLS]', tinyTokenId('[CLS]')],
      sep: ['[SEP]', tinyTokenId('[SEP]')],
    },
    decoder: { type: 'WordPiece', prefix: '##', cleanup: true },
    model: {
      type: 'WordPiece',
      unk_token: '[UNK]',
      continuing_subword_prefix: '##',
      max_input_chars_per_word: 100,
      vocab: Object.fromEntries(TINY_VOCABULARY.map((token, id) => [token, id])),
    },
  };
}

function tokenizerConfig() {
  return {
    tokenizer_class: 'BertTokenizer',
    do_lower_case: true,
    model_max_length: 64,
    pad_token: '[PAD]',
    unk_token: '[UNK]',
    cls_token: '[CLS]',
    sep_token: '[SEP]',
    mask_token: '[MASK]',
  };
}

/** last_hidden_state = Gather(table, input_ids) * float(attention_mask)[..., None], with dynamic batch and
 * sequence axes like an exported BERT. */
function embeddingLookupModel(): onnx.IModelProto {
  const { FLOAT, INT64 } = onnx.TensorProto.DataType;
  const tokenMatrix = (name: string) => tensorValue(name, INT64, ['batch', 'sequence']);
  return {
    irVersion: 7,
    opsetImport: [{ domain: '', version: 13 }],
    producerName: 'opsbot tests',
    graph: {
      name: 'tiny-bert',
      input: [tokenMatrix('input_ids'), tokenMatrix('attention_mask')],
      output: [tensorValue('last_hidden_state', FLOAT, ['batch', 'sequence', TINY_MODEL_DIMENSIONS])],
      initializer: [
        {
          name: 'embedding_table',
          dataType: FLOAT,
          dims: [TINY_VOCABULARY.length, TINY_MODEL_DIMENSIONS],
          floatData: Array.from(TINY_EMBEDDING_TABLE),
        },
        { name: 'last_axis', dataType: INT64, dims: [1], int64Data: [2] },
      ],
      node: [
        { opType: 'Gather', input: ['embedding_table', 'input_ids'], output: ['token_embeddings'] },
        {
          opType: 'Cast',
          input: ['attention_mask'],
          output: ['mask_float'],
          attribute: [{ name: 'to', type: onnx.AttributeProto.AttributeType.INT, i: FLOAT }],
        },
        { opType: 'Unsqueeze', input: ['mask_float', 'last_axis'], output: ['mask_column'] },
        { opType: 'Mul', input: ['token_embeddings', 'mask_column'], output: ['last_hidden_state'] },
      ],
    },
  };
}
