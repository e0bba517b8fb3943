/** What retrieval knows about one file of the knowledge base, before chunking. */

export type DocumentKind = 'runbook' | 'doc';
export type DocumentFormat = 'markdown' | 'text' | 'html';

export interface DocumentMeta {
  /** Runbook id from front matter; runbooks are offered to run by it. */
  id?: string;
  description?: string;
  services: string[];
  tags: string[];
  /** Alert names this document answers (front matter `alerts`). */
  alerts: string[];
  owner?: string;
  lastReviewed?: string;
}

/** A run of text under one heading path, e.g. ["Payments error rate above SLO", "Diagnose"]. */
export interface Section {
  headings: string[];
  text: string;
}

export interface SourceDocument {
  /** Path relative to the indexed root, with "/" separators: what citations show. */
  source: string;
  kind: DocumentKind;
  format: DocumentFormat;
  title: string;
  meta: DocumentMeta;
  sections: Section[];
  /** sha256 of the file's bytes: an unchanged file is not re-chunked or re-embedded. */
  contentHash: string;
}

/** The unit that is indexed and retrieved. */
export interface Chunk {
  /** `${source}#${ordinal}`, stable while the document is unchanged. */
  id: string;
  source: string;
  kind: DocumentKind;
  title: string;
  /** Heading path of the chunk's first section. */
  headings: string[];
  text: string;
  services: string[];
  tags: string[];
  alerts: string[];
  runbookId?: string;
  /** sha256 of what is embedded: the embedding cache key (with the provider id). */
  contentHash: string;
}
