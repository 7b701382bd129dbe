import { useEffect, useState } from 'react';
import { AccountMenu } from '../identity/AccountMenu';
import { AnchorControl } from '../verification/AnchorControl';
import { ConsoleDrawer } from '../admin/ConsoleDrawer';
import { InboxButton } from '../inbox/Inbox';
import { LoginScreen } from '../identity/LoginScreen';
import { startSession, useSession } from '../identity/session';
import { startVerification } from '../verification/verification';

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
      <InboxButton />
      <AccountMenu onConsole={() => setConsoleOpen(true)} onSignIn={() => setSignIn(true)} />
      {(forced || signIn) && <LoginScreen forced={forced && !signIn} onClose={() => setSignIn(false)} />}
      {consoleOpen && <ConsoleDrawer onClose={() => setConsoleOpen(false)} />}
    </div>
  );
}
