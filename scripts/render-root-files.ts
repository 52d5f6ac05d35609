// Prints one of the .deb's root files, rendered from the templates Install Helper uses (src/host/rootTemplates.ts):
//   node --import tsx scripts/render-root-files.ts launcher|policy
// scripts/package-deb.sh writes each into the package tree; a new packaged file is a new entry of `packaged`.
import { packaged } from '../src/host/rootTemplates';

const which = process.argv[2] as keyof typeof packaged;
if (!Object.hasOwn(packaged, which)) {
  process.stderr.write(`usage: render-root-files.ts ${Object.keys(packaged).join('|')}\n`);
  process.exit(2);
}
process.stdout.write(packaged[which]());
