// The parts of NLP.js 4 that bench/eval-nlu.ts uses; the packages ship no type declarations.
declare module '@nlpjs/core' {
  export interface NlpJsContainer {
    use(plugin: unknown): void;
    get(name: 'nlp'): import('@nlpjs/nlp').NlpJs;
  }
  export function containerBootstrap(): Promise<NlpJsContainer>;
}

declare module '@nlpjs/nlp' {
  export interface NlpJs {
    settings: { autoSave: boolean };
    addLanguage(locale: string): void;
    addDocument(locale: string, utterance: string, intent: string): void;
    addNerRuleOptionTexts(locale: string, entity: string, option: string, texts: string[]): void;
    addNerRegexRule(locale: string, entity: string, regex: RegExp): void;
    train(): Promise<void>;
    process(locale: string, utterance: string): Promise<{ intent: string; score: number }>;
    ner: {
      process(input: { locale: string; text: string }): Promise<{
        entities: { entity: string; start: number; end: number; option?: string; utteranceText: string }[];
      }>;
    };
  }
  export const Nlp: unknown;
}

declare module '@nlpjs/lang-en-min' {
  export const LangEn: unknown;
}
