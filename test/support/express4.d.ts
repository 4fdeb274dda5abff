// Express 4 is installed under the npm alias `express4` so both majors are tested.
declare module 'express4' {
  import express from 'express'
  export default express
}
