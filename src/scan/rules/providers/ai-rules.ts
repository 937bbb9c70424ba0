// AI model APIs: Cohere, Groq, Perplexity, Replicate, xAI, Mistral, OpenRouter, LangSmith, Hugging Face
// organisation tokens (OpenAI, Anthropic and Hugging Face user tokens are among the original built-in rules).
import { fakeChars, HEX, LETTERS, t } from '../canary-secrets.js';
import { type BuiltinRule, namedSecretRule, tokenRule } from '../rule-builders.js';

export const AI_RULES: BuiltinRule[] = [
  namedSecretRule({
    id: 'cohere-api-token',
    description: 'Cohere API key',
    names: ['cohere', 'co_api_key'],
    value: '[0-9A-Za-z]{40}',
    variable: 'COHERE_API_KEY',
    sample: fakeChars(1301, 40),
  }),
  tokenRule({
    id: 'groq-api-key',
    description: 'Groq API key',
    token: 'gsk_[0-9A-Za-z]{52}',
    keywords: ['gsk_'],
    variable: 'GROQ_API_KEY',
    sample: t('gsk_', fakeChars(1302, 52)),
  }),
  tokenRule({
    id: 'perplexity-api-key',
    description: 'Perplexity API key',
    token: 'pplx-[0-9A-Za-z]{48}',
    keywords: ['pplx-'],
    variable: 'PERPLEXITY_API_KEY',
    sample: t('pplx-', fakeChars(1303, 48)),
  }),
  tokenRule({
    id: 'replicate-api-token',
    description: 'Replicate API token',
    token: 'r8_[0-9A-Za-z]{37}',
    keywords: ['r8_'],
    variable: 'REPLICATE_API_TOKEN',
    sample: t('r8_', fakeChars(1304, 37)),
  }),
  tokenRule({
    id: 'xai-api-key',
    description: 'xAI (Grok) API key',
    token: 'xai-[0-9A-Za-z]{80}',
    keywords: ['xai-'],
    variable: 'XAI_API_KEY',
    sample: t('xai-', fakeChars(1305, 80)),
  }),
  namedSecretRule({
    id: 'mistral-api-key',
    description: 'Mistral AI API key',
    names: ['mistral'],
    value: '[0-9A-Za-z]{32}',
    variable: 'MISTRAL_API_KEY',
    sample: fakeChars(1306, 32),
  }),
  tokenRule({
    id: 'openrouter-api-key',
    description: 'OpenRouter API key',
    token: 'sk-or-v1-[0-9a-f]{64}',
    keywords: ['sk-or-v1-'],
    variable: 'OPENROUTER_API_KEY',
    sample: t('sk-or-', 'v1-', fakeChars(1307, 64, HEX)),
  }),
  tokenRule({
    id: 'langsmith-api-key',
    description: 'LangSmith (LangChain) API key',
    token: 'lsv2_(?:pt|sk)_[0-9a-f]{32}_[0-9a-f]{10}',
    keywords: ['lsv2_'],
    variable: 'LANGSMITH_API_KEY',
    sample: t('lsv2_', 'pt_', fakeChars(1308, 32, HEX), '_', fakeChars(1309, 10, HEX)),
  }),
  tokenRule({
    id: 'huggingface-organization-api-token',
    description: 'Hugging Face organisation API token',
    token: 'api_org_[A-Za-z]{34}',
    keywords: ['api_org_'],
    variable: 'HF_ORG_TOKEN',
    sample: t('api_org_', fakeChars(1310, 34, LETTERS)),
  }),
];
