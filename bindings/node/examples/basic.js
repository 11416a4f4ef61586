'use strict';

// A prompt registry and a chat log in one store. Run: node examples/basic.js [dir]

const fs = require('fs');
const os = require('os');
const path = require('path');
const lmstore = require('lmstore');

async function main() {
  const dir = process.argv[2] || fs.mkdtempSync(path.join(os.tmpdir(), 'lmstore-example-'));
  const store = lmstore.open(dir);
  try {
    await store.putTemplate({
      id: 'support/greeting',
      version: '1.0.0',
      template: 'Hello {{ name }}, how can I help?',
      inputs: { name: { type: 'string' } },
    });
    await store.setTemplateAlias('support/greeting', 'production', '1.0.0');
    const tpl = store.getTemplate('support/greeting', { alias: 'production' });

    const [question] = await store.appendMessages([
      { sessionId: 'chat-1', role: 'user', content: 'Where is my order?' },
    ]);
    await store.appendMessage({
      sessionId: 'chat-1',
      role: 'assistant',
      agentId: 'support-bot',
      content: 'Let me check.',
      inReplyTo: question.id,
      metadata: { tokens: 4 },
    });
    const { messages } = store.rangeMessages('chat-1', { reverse: true, limit: 50 });

    console.log(`lmstore ${lmstore.version} from ${lmstore.libraryPath}`);
    console.log(`template ${tpl.id}@${tpl.version}: ${tpl.template}`);
    for (const m of messages.reverse()) {
      console.log(`${lmstore.toDate(m.ts).toISOString()} ${m.role}: ${m.content}`);
    }
    console.log('ok');
  } finally {
    store.close();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
