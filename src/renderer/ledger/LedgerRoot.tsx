import { useEffect, useState } from 'react';
import { AccountMenu } from './AccountMenu';
import { AnchorControl } from './AnchorControl';
import { ConsoleDrawer } from './ConsoleDrawer';
import { LoginScreen } from './LoginScreen';
import { startSession, useSession } from './session';
import { startVerification } from './verification';

/**
 * Everything of the ledger in the top bar: anchor action, identity menu, login screen and consoles.
 * The login screen shows by itself when identities exist and none is unlocked.
 */
export function LedgerTopBar({ openSeriesId }: { openSeriesId: number | null }) {
  const s = useSession();
  const [signIn, setSignIn] = useState(false);
  const [consoleOpen, setConsoleOpen] = useState(false);
  useEffect(() => {
    startSession();
    startVerification();
  }, []);
  const forced = s.loaded && s.identities.length > 0 && !s.current && !s.viewOnly;
  return (
    <div className="ledgerbar">
      <AnchorControl seriesId={openSeriesId} />
      <AccountMenu onConsole={() => setConsoleOpen(true)} onSignIn={() => setSignIn(true)} />
      {(forced || signIn) && <LoginScreen forced={forced && !signIn} onClose={() => setSignIn(false)} />}
      {consoleOpen && <ConsoleDrawer onClose={() => setConsoleOpen(false)} />}
    </div>
  );
}
