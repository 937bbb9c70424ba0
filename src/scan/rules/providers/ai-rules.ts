// AI model APIs: OpenAI, Anthropic, Hugging Face, Cohere, Groq, Perplexity, Replicate, xAI, Mistral,
// OpenRouter, LangSmith. Each rule with its true- and false-positive cases.
import { fakeChars, fakeUuid, HEX, LETTERS, t } from '../canary-secrets.js';
import { type BuiltinRule, customRule, END, namedSecretRule, tokenRule, UUID } from '../rule-builders.js';

const openaiProject = t('sk-proj-', fakeChars(30, 74), 'T3Blbk', 'FJ', fakeChars(31, 74));
const openaiLegacy = t('sk-', fakeChars(32, 20), 'T3Blbk', 'FJ', fakeChars(33, 20));
const anthropic = t('sk-ant-api03-', fakeChars(34, 93), 'AA');
const hf = t('hf_', fakeChars(35, 34, 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz'));

const anthropicAdmin = t('sk-ant-admin01-', fakeChars(3302, 93), 'AA');

export const AI_RULES: BuiltinRule[] = [
  customRule({
    id: 'openai-api-key',
    description: 'OpenAI API key (project, service-account, admin or legacy)',
    regex: `\\b(sk-(?:proj|svcacct|admin)-[0-9A-Za-z_-]{58,400}|sk-[0-9A-Za-z]{20}T3BlbkFJ[0-9A-Za-z]{20})${END}`,
    keywords: ['sk-proj-', 'sk-svcacct-', 'sk-admin-', 't3blbkfj'],
    entropy: 3.5,
    provider: 'openai',
    positives: [
      { text: `OPENAI_API_KEY=${openaiProject}\n`, secret: openaiProject },
      { text: `openai.api_key = "${openaiLegacy}"`, secret: openaiLegacy },
    ],
    negatives: ['sk-proj- keys are long', 'the sk-ant- prefix'],
  }),
  customRule({
    id: 'anthropic-api-key',
    description: 'Anthropic API key',
    regex: `\\b(sk-ant-api03-[0-9A-Za-z_-]{93}AA)${END}`,
    keywords: ['sk-ant-'],
    positives: [{ text: `ANTHROPIC_API_KEY=${anthropic}`, secret: anthropic }],
    negatives: [t('sk-ant-', 'api03-short')],
  }),
  customRule({
    id: 'huggingface-access-token',
    description: 'Hugging Face access token',
    regex: `\\b(hf_[A-Za-z]{34})${END}`,
    keywords: ['hf_'],
    entropy: 3.5,
    positives: [{ text: `HF_TOKEN=${hf}`, secret: hf }],
    negatives: [t('hf_', 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa')],
  }),
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
  customRule({
    id: 'anthropic-admin-api-key',
    description: 'Anthropic Admin API key',
    regex: `\\b(sk-ant-admin01-[0-9A-Za-z_-]{93}AA)${END}`,
    keywords: ['sk-ant-admin01-'],
    positives: [{ text: `ANTHROPIC_ADMIN_KEY=${anthropicAdmin}`, secret: anthropicAdmin }],
    negatives: [t('sk-ant-', 'admin01-short')],
  }),
  namedSecretRule({
    id: 'privateai-api-token',
    description: 'Private AI API key',
    names: ['private[_-]?ai'],
    keywords: ['privateai', 'private_ai', 'private-ai'],
    value: '[0-9A-Za-z]{32}',
    variable: 'PRIVATE_AI_API_KEY',
    sample: fakeChars(3301, 32),
  }),
  namedSecretRule({
    id: 'wandb-api-key',
    description: 'Weights & Biases API key',
    names: ['wandb'],
    value: '[0-9a-f]{40}',
    variable: 'WANDB_API_KEY',
    sample: fakeChars(4701, 40, HEX),
  }),
  tokenRule({
    id: 'langfuse-secret-key',
    description: 'Langfuse secret key (sk-lf- and a UUID)',
    token: `sk-lf-${UUID}`,
    keywords: ['sk-lf-'],
    variable: 'LANGFUSE_SECRET_KEY',
    sample: t('sk-lf-', fakeUuid(5201)),
  }),
];
