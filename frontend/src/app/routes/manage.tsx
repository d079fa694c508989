import { useState } from 'react';

import { PageHeading } from '@/components/page-heading';
import { paths } from '@/config/paths';
import { ManageView } from '@/features/manage/components/manage-view';
import { saveAccessToken } from '@/lib/pending-appointment';
import { useParams } from '@/lib/router';

/**
 * The manage link is `/appointments/{id}/manage#token=...`: the fragment never reaches a server. The token is
 * kept for this appointment (localStorage, sent only as the Authorization header) and removed from the
 * address bar at once, so it is not left in the history, a screenshot or a shared URL.
 */
function absorbTokenFromFragment(appointmentId: string): void {
  const token = new URLSearchParams(window.location.hash.slice(1)).get('token');
  if (!token) return;
  saveAccessToken(appointmentId, token);
  window.history.replaceState(window.history.state, '', `${window.location.pathname}${window.location.search}`);
}

export default function ManageRoute() {
  const { appointmentId = '' } = useParams();
  // Before the first read: the read needs the token.
  useState(() => {
    absorbTokenFromFragment(appointmentId);
    return true;
  });
  const manageUrl = `${window.location.origin}${paths.manage.href(appointmentId)}`;
  return (
    <>
      <PageHeading>Your appointment</PageHeading>
      <ManageView key={appointmentId} appointmentId={appointmentId} manageUrl={manageUrl} />
    </>
  );
}
