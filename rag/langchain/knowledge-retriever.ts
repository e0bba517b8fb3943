import { Document } from '@langchain/core/documents';
import { BaseRetriever, type BaseRetrieverInput } from '@langchain/core/retrievers';
import type { SearchFilter } from '../index/knowledge-index';
import type { KnowledgeBase } from '../knowledge-base';

export interface KnowledgeRetrieverInput extends BaseRetrieverInput {
  knowledge: KnowledgeBase;
  /** Documents per query (default 4). */
  k?: number;
  filter?: SearchFilter;
}

/**
 * opsbot's hybrid index as a LangChain retriever, so LangChain chains can use it. Each retrieved document
 * becomes one LangChain Document: its best passage as pageContent, citation data as metadata.
 */
export class KnowledgeRetriever extends BaseRetriever {
  lc_namespace = ['opsbot', 'rag', 'retrievers'];
  private readonly knowledge: KnowledgeBase;
  private readonly k: number;
  private readonly filter?: SearchFilter;

  constructor(input: KnowledgeRetrieverInput) {
    super(input);
    this.knowledge = input.knowledge;
    this.k = input.k ?? 4;
    this.filter = input.filter;
  }

  override async _getRelevantDocuments(query: string): Promise<Document[]> {
    const results = await this.knowledge.search(query, { k: this.k, filter: this.filter });
    return results.map((r) => {
      const best = r.passages[0];
      return new Document({
        pageContent: best?.chunk.text ?? '',
        metadata: {
          source: r.source,
          title: r.title,
          kind: r.kind,
          heading: best?.chunk.headings.join(' › ') ?? '',
          score: r.score,
          relevance: r.relevance,
          ...(r.meta.id ? { runbookId: r.meta.id } : {}),
        },
      });
    });
  }
}
