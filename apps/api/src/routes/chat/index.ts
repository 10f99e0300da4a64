/** Team chat routes (DESIGN §6 Chat): channels, members, entries. */
import { router } from '../../lib/env.js';

export const chatRoutes = router();
