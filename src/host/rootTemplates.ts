// The text of what root installs besides the helper's files: the launcher pkexec runs and the polkit action naming
// it. One template each, rendered by Install Helper (src/host/install.ts) and by scripts/package-deb.sh (through
// scripts/render-root-files.ts), so the two installs cannot drift apart.
import * as path from 'node:path';
import {
  HELPER_NODE_FLAGS,
  LAUNCHER,
  LAUNCHER_CAPS,
  PACKAGE_INSTALL_DIR,
  PACKAGED_NODE,
  PACKAGED_POLKIT_ACTION,
  SAFE_PATH,
} from './rootPath';

export interface LauncherValues {
  /** A root-owned node binary. */
  node: string;
  /** The root-owned tree holding helper.js. */
  installDir: string;
  /** Who installed it, for the reader of the script. */
  installedBy: string;
}

export interface PolicyValues {
  action: string;
  /** The launcher pkexec may run under this action. */
  launcher: string;
}

/** Everything substituted into a root file is checked here: no quote, space or shell syntax can reach root. */
function plainPath(what: string, p: string): string {
  if (!SAFE_PATH.test(p) || p.split('/').includes('..'))
    throw new Error(`refusing ${what} ${JSON.stringify(p)}`);
  return p;
}

export function launcherScript(v: LauncherValues): string {
  const node = plainPath('node', v.node);
  const helper = plainPath('helper', path.join(v.installDir, 'helper.js'));
  const run = `${node} ${HELPER_NODE_FLAGS.join(' ')} ${helper} "$@"`;
  return `#!/bin/sh
# Installed by ${v.installedBy}: the privileged eBPF helper, run by pkexec with a root-owned node.
# Every thread starts with at most what loading BPF and dropping to an unprivileged uid need (the helper keeps
# CAP_BPF + CAP_PERFMON once attached); without a setpriv that knows these capabilities the helper still starts,
# and drops what it can itself.
caps=${LAUNCHER_CAPS}
if /usr/bin/setpriv --bounding-set=$caps --inh-caps=-all true 2>/dev/null; then
  exec /usr/bin/setpriv --bounding-set=$caps --inh-caps=-all -- ${run}
fi
exec ${run}
`;
}

export function polkitPolicy(v: PolicyValues): string {
  if (!/^[a-z][a-z0-9.]+$/.test(v.action))
    throw new Error(`refusing polkit action ${JSON.stringify(v.action)}`);
  return `<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE policyconfig PUBLIC "-//freedesktop//DTD PolicyKit Policy Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/PolicyKit/1/policyconfig.dtd">
<policyconfig>
  <vendor>Hotspot</vendor>
  <action id="${v.action}">
    <description>Run the Hotspot eBPF helper</description>
    <message>Authentication is required to load Hotspot's eBPF programs into the kernel</message>
    <defaults>
      <allow_any>no</allow_any>
      <allow_inactive>no</allow_inactive>
      <allow_active>auth_admin_keep</allow_active>
    </defaults>
    <annotate key="org.freedesktop.policykit.exec.path">${plainPath('launcher', v.launcher)}</annotate>
  </action>
</policyconfig>
`;
}

/** The .deb's copies: its node, its tree, its action. */
export const packaged = {
  launcher: () =>
    launcherScript({
      node: PACKAGED_NODE,
      installDir: PACKAGE_INSTALL_DIR,
      installedBy: 'the hotspot-helper package',
    }),
  policy: () =>
    polkitPolicy({ action: PACKAGED_POLKIT_ACTION, launcher: path.join(PACKAGE_INSTALL_DIR, LAUNCHER) }),
};
