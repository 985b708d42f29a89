import v8 from 'node:v8';

/**
 * Turns off V8's allocation-site pretenuring; called first thing, before the app allocates.
 *
 * V8 watches, per allocation site (an object or array literal in the code), how many of its objects survive
 * young-generation collections, and once most do it allocates that site's objects straight into the old
 * generation from then on, for the life of the process. A batch write keeps a thousand records' worth of
 * objects alive across many scavenges, and the sites it does that through are shared with every read (the
 * driver's rows, the request and reply, the query builder). After the bench's write scenario the same process
 * read a list of 50 at half its rate with twice the CPU per request: its short-lived objects were now made
 * in the old generation, which then needed eight times as many full collections, and scavenges three times
 * as long. A process that had served no write read at the full rate. See docs/decisions.md, "Reads after
 * writes". The flag cannot be given in NODE_OPTIONS, hence here, for every way the server is started.
 */
export function tuneHeap(): void {
  v8.setFlagsFromString('--no-allocation-site-pretenuring');
}
