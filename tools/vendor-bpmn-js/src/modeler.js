// The studio's modeler bundle (built by `make -C tools/vendor-bpmn-js`, committed as
// webapp/static/vendor/bpmn-js-studio/studio.min.js): bpmn-js Modeler + NavigatedViewer, the
// properties panel, the moddle of the spiffworkflow extensions certflow's diagrams use and the
// certflow properties (service-task operator and parameters, user-task due time, form, lane role,
// the rules an element implements).
import Modeler from 'bpmn-js/lib/Modeler';
import NavigatedViewer from 'bpmn-js/lib/NavigatedViewer';
import { BpmnPropertiesPanelModule, BpmnPropertiesProviderModule } from 'bpmn-js-properties-panel';

import spiffModdle from './spiffworkflow.json';
import CertflowPropertiesModule from './certflow-properties.jsx';

window.CertflowStudio = {
  Modeler,
  NavigatedViewer,
  BpmnPropertiesPanelModule,
  BpmnPropertiesProviderModule,
  CertflowPropertiesModule,
  spiffModdle,
};
