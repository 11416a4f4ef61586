// Type-checked with `tsc --noEmit -p examples/tsconfig.json`; it shows the API's types, so a
// change to index.d.ts that breaks a caller fails the test script.

import { open, LmstoreError, toDate, type Message, type Template, type AppendResult, type Store } from 'lmstore';

async function demo(dir: string): Promise<void> {
  using store: Store = open(dir, { mapSize: 64 << 20, noSync: false });

  const outcome: 'created' | 'unchanged' | 'replaced' = await store.putTemplate({
    id: 'summarize',
    version: '2.0.0',
    template: 'Summarize {{ text }} in {{ words }} words.',
    inputs: { text: { type: 'string' }, words: { type: 'number', required: false, default: 50 } },
    metadata: { owner: 'search-team' },
  });
  store.setTemplateAliasSync('summarize', 'production', '2.0.0');

  const latest: Template | undefined = store.getTemplate('summarize');
  const prod = store.getTemplate('summarize', { alias: 'production' });
  const exact = store.getTemplate('summarize', { version: '2.0.0' });
  if (latest && prod && exact) console.log(outcome, latest.version, prod.createdAt, exact.inputs.words?.default);

  const results: AppendResult[] = await store.appendMessages([
    { sessionId: 's-1', role: 'user', content: 'hi', metadata: { lang: 'en' } },
    { sessionId: 's-1', role: 'assistant', agentId: 'bot', content: 'hello', ts: new Date() },
  ]);
  const first = results[0];
  if (first && !first.duplicate) await store.updateMessage(first.id, { content: 'hi!' });

  const page = store.rangeMessages('s-1', { reverse: true, limit: 50 });
  const newest: Message | undefined = page.messages[0];
  if (newest) console.log(toDate(newest.ts).toISOString(), newest.agentId ?? '(no agent)');
  if (page.cursor !== null) store.rangeMessages('s-1', { reverse: true, limit: 50, cursor: page.cursor });

  for (const m of store.iterateMessages('s-1', { pageSize: 100 })) console.log(m.role, m.content);
  for (const s of store.iterateSessions()) console.log(s.sessionId, s.messageCount, s.lastActivity);

  const deleted: number = await store.trimSession('s-1', 10);
  console.log(deleted, store.stats().messages);

  try {
    await store.createSession('s-1');
  } catch (e) {
    if (e instanceof LmstoreError && e.code === 'LMS_CONFLICT') console.log('exists', e.status);
    else throw e;
  }
}

demo(process.argv[2] ?? '/tmp/lmstore-typed-example').catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
