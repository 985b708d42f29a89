import { openSync, closeSync, readFileSync, unlinkSync, writeSync } from 'node:fs';

/**
 * PGlite takes no lock on its folder, and two processes writing one folder corrupt it. A lock file
 * beside the folder, holding the owner's pid, makes a second process (a seed while `npm start` runs)
 * stop with a clear message instead. A lock left by a process that no longer exists is taken over.
 */
export class DataDirInUseError extends Error {
  override name = 'DataDirInUseError';
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export function lockDataDir(dataDir: string): () => void {
  const path = `${dataDir.replace(/\/+$/, '')}.lock`;
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(path, 'wx');
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return () => {
        try {
          if (readFileSync(path, 'utf8') === String(process.pid)) unlinkSync(path);
        } catch {
          // already gone
        }
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const owner = Number(readFileSync(path, 'utf8'));
      if (Number.isInteger(owner) && owner > 0 && owner !== process.pid && alive(owner)) {
        throw new DataDirInUseError(
          `The embedded database in ${dataDir} is in use by process ${owner} (PGlite allows one process per folder): stop it first, e.g. the running \`npm start\`.`,
        );
      }
      unlinkSync(path);
    }
  }
  throw new DataDirInUseError(`Could not lock ${dataDir}.`);
}
