'use strict';

// One import, export, verification, migration or dictionary training job on its own thread
// (see import.js and dictionary.js): the call, its progress and the library's error words all
// stay on this thread; the report or the error goes back as plain data.

const { parentPort, workerData } = require('worker_threads');

process.env.LMSTORE_LIB = workerData.libraryPath;
const { runJob } = require('./import');
const { STATUS } = require('./errors');

try {
  const progress = (done, known) => parentPort.postMessage({ progress: [done, known] });
  const report = runJob(workerData.db, workerData.job, progress);
  parentPort.postMessage({ report });
} catch (e) {
  parentPort.postMessage({ error: { status: e.status === undefined ? STATUS.LMS_INTERNAL : e.status, message: e.message, osCode: e.osCode } });
}
