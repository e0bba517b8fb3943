import type { NewSilence, Silence, Silences } from '../../engines/orchestrator/alerts/silences';
import { type AlertmanagerApi, AlertmanagerError } from './alertmanager-api';

/** Silences kept by Alertmanager, through its v2 API: they apply before Alertmanager notifies anyone. */
export class AlertmanagerSilences implements Silences {
  readonly description: string;

  constructor(private readonly api: AlertmanagerApi) {
    this.description = api.description;
  }

  create(silence: NewSilence): Promise<string> {
    return this.api.createSilence(silence);
  }

  /**
   * Alertmanager refuses to expire a silence that already is (HTTP 500 "already expired") and does not know
   * one it has forgotten (404): both are the end the caller wants, so only a silence still running is an error.
   */
  async expire(id: string): Promise<void> {
    try {
      await this.api.expireSilence(id);
    } catch (err) {
      if (!(err instanceof AlertmanagerError) || err.status === undefined) throw err;
      const silence = await this.api.getSilence(id);
      if (silence && silence.state !== 'expired') throw err;
    }
  }

  async list(): Promise<Silence[]> {
    return (await this.api.listSilences()).filter((s) => s.state !== 'expired');
  }
}
