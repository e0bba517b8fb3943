import type { Command } from 'commander';
import { Option } from 'commander';
import type { DeadLetter } from '../../engines/eventbus/dead-letters';
import type { OpsEvent } from '../../engines/eventbus/envelope';
import type { PublishResult, ReplayResult } from '../../engines/eventbus/event-bus';
import type { ListedRule } from '../../engines/eventbus/routing-rules';
import { UsageError } from './exit';
import { addServerOptions, callServer, limit, print } from './server-client';

const DATA_CHARS = 120;

function queryString(params: Record<string, string | number | undefined>): string {
  const defined = Object.entries(params).flatMap(([k, v]): [string, string][] =>
    v === undefined ? [] : [[k, String(v)]],
  );
  return defined.length === 0 ? '' : `?${new URLSearchParams(defined)}`;
}

function truncated(text: string): string {
  return text.length <= DATA_CHARS ? text : `${text.slice(0, DATA_CHARS - 1)}…`;
}

function eventLine(e: OpsEvent): string {
  return [e.time, e.type, e.source, e.subject, e.id, truncated(JSON.stringify(e.data))]
    .filter((field) => field !== undefined)
    .join(' ');
}

function deadLetterLine(l: DeadLetter): string {
  const where = l.group ?? l.target;
  return `${l.id} ${l.event.type} ${l.reason}${where ? ` ${where}` : ''} ${l.attempts} attempts: ${l.error}`;
}

/**
 * `opsbot events …`: the event bus through a running server's REST API. The embedded event log belongs to
 * the server process, so this never opens it itself.
 */
export function registerEventsCommands(program: Command): void {
  const events = addServerOptions(
    program
      .command('events')
      .description('publish and find events, routing rules and dead letters on a running opsbot server'),
  );
  const json = ['--json', 'print the JSON response body'] as const;

  events
    .command('publish')
    .description('publish one event')
    .argument('<type>', 'dotted lower-case type, e.g. order.created')
    .requiredOption('--source <source>', 'who emits it, e.g. /services/orders')
    .option('--subject <subject>', 'what it is about within the source, e.g. order/1234')
    .option('--correlation-id <id>', 'ties the events of one transaction together')
    .option('--data <json>', 'the event data as JSON', '{}')
    .option(...json)
    .action(
      async (
        type: string,
        options: { source: string; subject?: string; correlationId?: string; data: string; json?: boolean },
        command: Command,
      ) => {
        let data: unknown;
        try {
          data = JSON.parse(options.data);
        } catch (err) {
          throw new UsageError(`--data: not JSON: ${(err as Error).message}`);
        }
        const answer = await callServer(command, 'POST', '/api/v1/events', {
          type,
          source: options.source,
          subject: options.subject,
          correlationid: options.correlationId,
          data,
        });
        if (options.json) return print(answer.text);
        const { results } = answer.json as { results: PublishResult[] };
        print(
          results.map((r) =>
            r.status === 'accepted'
              ? `accepted ${r.id}`
              : `dead-lettered ${r.id}: ${(r.errors ?? []).join('; ')}`,
          ),
        );
      },
    );

  events
    .command('query')
    .description('recent events, newest first')
    .option('--type <type>', 'event type; order.* matches every order event')
    .option('--source <source>')
    .option('--correlation-id <id>')
    .option('--subject <subject>')
    .option('--mentions <text>', 'text found anywhere in the event, e.g. an order number')
    .option('--since <time>', 'ISO timestamp')
    .option('--until <time>', 'ISO timestamp')
    .option('-n, --limit <count>', 'how many (server default when not given)', limit)
    .option(...json)
    .action(
      async (
        options: {
          type?: string;
          source?: string;
          correlationId?: string;
          subject?: string;
          mentions?: string;
          since?: string;
          until?: string;
          limit?: number;
          json?: boolean;
        },
        command: Command,
      ) => {
        const answer = await callServer(
          command,
          'GET',
          `/api/v1/events${queryString({
            type: options.type,
            source: options.source,
            correlationid: options.correlationId,
            subject: options.subject,
            mentions: options.mentions,
            since: options.since,
            until: options.until,
            limit: options.limit,
          })}`,
        );
        if (options.json) return print(answer.text);
        const found = (answer.json as { events: OpsEvent[] }).events;
        print(found.length === 0 ? 'no events' : found.map(eventLine));
      },
    );

  events
    .command('get')
    .description('one event by id')
    .argument('<id>')
    .option(...json)
    .action(async (id: string, options: { json?: boolean }, command: Command) => {
      const answer = await callServer(command, 'GET', `/api/v1/events/${encodeURIComponent(id)}`);
      print(options.json ? answer.text : JSON.stringify(answer.json, null, 2));
    });

  events
    .command('rules')
    .description('routing rules')
    .command('list')
    .description('the rules in force: from the configuration file and added through the API')
    .option(...json)
    .action(async (options: { json?: boolean }, command: Command) => {
      const answer = await callServer(command, 'GET', '/api/v1/routing/rules');
      if (options.json) return print(answer.text);
      const { rules } = answer.json as { rules: ListedRule[] };
      print(rules.length === 0 ? 'no routing rules' : rules.map((r) => `${r.id} (${r.origin}) ${r.summary}`));
    });

  const dlq = events.command('dlq').description('the dead letter queue: events that could not be handled');

  dlq
    .command('list')
    .description('dead letters, newest first')
    .option('--type <type>', 'event type')
    .addOption(
      new Option('--reason <reason>', 'why they are there').choices([
        'invalid',
        'handler_failed',
        'route_failed',
      ]),
    )
    .option('-n, --limit <count>', 'how many', limit)
    .option(...json)
    .action(
      async (
        options: { type?: string; reason?: string; limit?: number; json?: boolean },
        command: Command,
      ) => {
        const answer = await callServer(
          command,
          'GET',
          `/api/v1/dlq${queryString({ type: options.type, reason: options.reason, limit: options.limit })}`,
        );
        if (options.json) return print(answer.text);
        const { deadLetters } = answer.json as { deadLetters: DeadLetter[] };
        print(deadLetters.length === 0 ? 'no dead letters' : deadLetters.map(deadLetterLine));
      },
    );

  dlq
    .command('show')
    .description('one dead letter: the event, the error and where it failed')
    .argument('<id>')
    .option(...json)
    .action(async (id: string, options: { json?: boolean }, command: Command) => {
      const answer = await callServer(command, 'GET', `/api/v1/dlq/${encodeURIComponent(id)}`);
      print(options.json ? answer.text : JSON.stringify(answer.json, null, 2));
    });

  dlq
    .command('replay')
    .description('handle dead letters again: one by id, all of a type, or all')
    .option('--id <id>', 'one dead letter')
    .option('--type <type>', 'every dead letter of this event type')
    .option('--all', 'every dead letter')
    .option(...json)
    .action(
      async (options: { id?: string; type?: string; all?: boolean; json?: boolean }, command: Command) => {
        const chosen = [options.id, options.type, options.all].filter((o) => o !== undefined);
        // Replaying everything is a choice someone makes, never what a forgotten option falls back to.
        if (chosen.length !== 1)
          throw new UsageError('dlq replay needs exactly one of --id <id>, --type <type> or --all');
        const body =
          options.id !== undefined
            ? { id: options.id }
            : options.type !== undefined
              ? { type: options.type }
              : { all: true };
        const answer = await callServer(command, 'POST', '/api/v1/dlq/replay', body);
        const result = answer.json as ReplayResult;
        print(
          options.json
            ? answer.text
            : [
                `replayed ${result.replayed.length}, failed ${result.failed.length}`,
                ...result.failed.map((f) => `failed ${f.id}: ${f.error}`),
              ],
        );
        // A failed replay leaves its dead letter in place; scripts see that in the exit code.
        if (result.failed.length > 0) process.exitCode = 1;
      },
    );
}
